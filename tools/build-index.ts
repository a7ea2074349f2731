/**
 * Builds a search index from folders of sample images, or merges shard indexes.
 *   npm run build-index -- --models <dir> --encoder <id> --out <dir> [options]
 *   npm run build-index -- merge --out <dir> <shard-dir>...
 * Everything is documented in docs/build-index.md; the implementation lives in tools/lib/indexBuilder/.
 */
import { runCli } from './lib/indexBuilder/cli.ts';

process.exitCode = await runCli(process.argv.slice(2));
