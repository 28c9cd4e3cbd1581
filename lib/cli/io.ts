/**
 * Where the CLIs read and write, injected so that tests run them in process: the output streams, the environment,
 * the working directory, a yes/no prompt when there is a terminal, the Ctrl-C signal and the clock. `processIo`
 * builds it from the real process, for the entry points.
 */
import * as readline from 'readline';
import type { Clock } from '../clock';

/** Where the CLI writes: a stream-like sink that may be a terminal. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Where a CLI reads and writes; `process` by default. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Asks a yes/no question on the terminal; absent when there is none. */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Aborted on Ctrl-C (and, for a server, SIGTERM): stop following, or stop serving. */
  readonly signal?: AbortSignal;
  /** Time for waits (polls, retries). @default the system clock */
  readonly clock?: Clock;
}

/**
 * The real process as {@link CliIo}: `signal` aborts on the signals named (a second SIGINT exits at once, 130), and
 * `confirm` asks on stderr when stdin is a terminal.
 */
export function processIo(signals: readonly NodeJS.Signals[]): CliIo {
  const interrupt = new AbortController();
  for (const name of signals) {
    process.on(name, () => {
      if (interrupt.signal.aborted && name === 'SIGINT') {
        process.exit(130);
      }
      interrupt.abort();
    });
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    confirm: process.stdin.isTTY ? ask : undefined,
    signal: interrupt.signal,
  };
}

function ask(question: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    rl.question(question, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}
