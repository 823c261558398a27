export { trainAndTrack, MODEL_ARTIFACT_DIR, type TrainRunInput, type TrainRunResult } from './train-run.js';
export { scoreCsvFile, type ScoreResult } from './batch-score.js';
export { judgeImprovement, parseImprovement, type ImprovementRule, type ImprovementVerdict } from './improvement.js';
export { profileFromCsv } from './profile-dataset.js';
