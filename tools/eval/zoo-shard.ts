/**
 * Child process of tools/eval/zoo.ts: renders one shard of an eval zoo's model folders (or its
 * query sets) with the procedural zoo's own writers, so two cores render at once.
 *
 *   node --import tsx tools/eval/zoo-shard.ts models  <split> <count> <seed> <samples> <shard> <shards> <out>
 *   node --import tsx tools/eval/zoo-shard.ts queries <split> <count> <seed> <textPerModel> <out>
 */
import { makeZoo, type Split } from '../zoo/spec.ts';
import { writeModels, writeQueries } from '../zoo/cli.ts';

async function main(argv: string[]): Promise<void> {
  const [cmd, split, count, seed, ...rest] = argv;
  const zoo = makeZoo(split as Split, Number(count), Number(seed));
  const quiet = () => {};
  if (cmd === 'models') {
    const [samples, shard, shards, out] = rest;
    const mine = zoo.filter((_, i) => i % Number(shards) === Number(shard));
    await writeModels(mine, Number(samples), out, quiet);
  } else if (cmd === 'queries') {
    const [textPerModel, out] = rest;
    await writeQueries(zoo, out, Number(textPerModel), quiet);
  } else {
    throw new Error(`zoo-shard: unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exit(1);
  },
);
