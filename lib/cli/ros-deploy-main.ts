/** The `ros-deploy` process: runs the CLI on the real process (Ctrl-C stops following; a second one exits). */
import { processIo } from './io';
import { main } from './ros-deploy';

main(process.argv.slice(2), processIo(['SIGINT'])).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `ros-deploy: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
