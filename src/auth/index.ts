export { KeyService, type ApiKeyInfo } from './key-service.js';
export { KyselyKeyStore, type KeyStore, type ApiKeyRecord } from './key-store.js';
