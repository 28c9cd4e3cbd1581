import * as readline from 'readline';
import { main } from './ros-deploy';

// Ctrl-C stops following (the ROS operation goes on); a second one exits at once.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});

const confirm = process.stdin.isTTY
  ? (question: string) =>
      new Promise<boolean>((resolve) => {
        const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
        rl.question(question, (answer) => {
          rl.close();
          resolve(/^y(es)?$/i.test(answer.trim()));
        });
      })
  : undefined;

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  confirm,
  signal: interrupt.signal,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `ros-deploy: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
