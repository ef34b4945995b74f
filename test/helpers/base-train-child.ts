// Runs base-train in its own process with the byte-level tokenizer, so a test can kill -9 it mid-run.
// Usage: node base-train-child.js <base-train flags...>
import { baseTrain, parseBaseTrain } from '../../src/commands/base-train.js';
import { ByteTokenizer } from './byte-tokenizer.js';

const { opts } = parseBaseTrain(process.argv.slice(2));
await baseTrain(opts, new ByteTokenizer(), (s) => process.stderr.write(s + '\n'));
