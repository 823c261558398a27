export { KyselyMonitorStore } from './kysely-monitor-store.js';
export { MonitorCheck, type CheckOutcome } from './monitor-check.js';
export { MonitorService, type MonitorServiceOptions } from './monitor-service.js';
export { MONITOR_NAME, monitorName, parseMonitor, type MonitorInput, type MonitorSettings } from './monitor-spec.js';
export type { MonitorStore, StoredProfile } from './monitor-store.js';
export { ProfileLookup } from './profile-lookup.js';
export * from './types.js';
