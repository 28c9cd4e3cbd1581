/** The `ros-local` process: runs the CLI on the real process (Ctrl-C or SIGTERM stops serving). */
import { processIo } from './io';
import { main } from './ros-local';

main(process.argv.slice(2), processIo(['SIGINT', 'SIGTERM'])).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ros-local: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
