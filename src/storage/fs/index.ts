export { createFolder, folderErrorReason } from './create-folder.js';
