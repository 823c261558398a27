/**
 * The metadata_props keys FluxOps writes into the ONNX models it exports and reads from any ONNX
 * model: what the graph alone cannot say (column names of a matrix input, class labels of a graph
 * without a classifier node).
 */
export const ONNX_META = {
  /** JSON list of the input matrix's column names, in column order. */
  inputColumns: 'fluxops.input_columns',
  /** JSON list of class labels, in the order of the probability columns. */
  classes: 'fluxops.classes',
  target: 'fluxops.target',
  trainedAt: 'fluxops.trained_at',
  algorithm: 'fluxops.algorithm',
} as const;
