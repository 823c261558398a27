export { buildModelProfile, parseModelProfile, MAX_PERFORMANCE_ROWS, PROFILE_FILE, type ModelProfile, type ProfileInput, type ReferencePerformance } from './model-profile.js';
