/**
 * `--projection <file.json>`: a fine-tuned linear map P shipped with the index,
 *   { "structure": "diagonal" | "triangular" | "full", "matrix": number[][] }   (dim rows × dim columns)
 * Queries and model means are compared as P x (row-major: (P x)_i = Σ_j matrix[i][j] x_j).
 */
import { InputError, readJsonFile } from './errors.ts';

export type ProjectionStructure = 'diagonal' | 'triangular' | 'full';

export interface Projection {
  structure: ProjectionStructure;
  /** [dim, dim] row-major. */
  matrix: Float32Array;
}

export function parseProjection(json: unknown, dim: number, where = 'projection'): Projection {
  const bad = (msg: string): never => {
    throw new InputError(`${where}: ${msg}`);
  };
  const r = json as { structure?: unknown; matrix?: unknown };
  if (typeof r !== 'object' || r === null) bad('must be a JSON object {"structure", "matrix"}');
  const structure = r.structure;
  if (structure !== 'diagonal' && structure !== 'triangular' && structure !== 'full') {
    bad(`"structure" must be "diagonal", "triangular" or "full", not ${JSON.stringify(structure)}`);
  }
  const rows = r.matrix;
  if (!Array.isArray(rows) || rows.length !== dim) bad(`"matrix" must have ${dim} rows (the encoder's dimension)`);
  const matrix = new Float32Array(dim * dim);
  (rows as unknown[]).forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== dim) bad(`row ${i} of "matrix" must have ${dim} numbers`);
    (row as unknown[]).forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(`matrix[${i}][${j}] is not a finite number`);
      matrix[i * dim + j] = v as number;
    });
  });
  let lowerOnly = true;
  let upperOnly = true;
  let diagonal = true;
  let nonZero = false;
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      const v = matrix[i * dim + j];
      if (v !== 0) nonZero = true;
      if (v !== 0 && i !== j) diagonal = false;
      if (v !== 0 && j > i) lowerOnly = false;
      if (v !== 0 && j < i) upperOnly = false;
    }
  }
  if (!nonZero) bad('the matrix is all zeros');
  if (structure === 'diagonal' && !diagonal) bad('"structure" is "diagonal" but the matrix has off-diagonal entries');
  if (structure === 'triangular' && !lowerOnly && !upperOnly) bad('"structure" is "triangular" but the matrix is not triangular');
  return { structure: structure as ProjectionStructure, matrix };
}

export async function loadProjection(file: string, dim: number): Promise<Projection> {
  // A full 512×512 matrix written out as JSON is a few MB.
  const read = await readJsonFile(file, 64 * 1024 * 1024);
  if (!read.ok) throw new InputError(`the projection ${file} is ${read.problem}`);
  return parseProjection(read.value, dim, file);
}
