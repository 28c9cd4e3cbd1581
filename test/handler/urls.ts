/**
 * Response URLs that behave as ROS's may when things go wrong, on 127.0.0.1: one that answers every POST with a chosen
 * HTTP status (500 while ROS is down, 404 once ROS no longer waits for the answer), switchable while a test runs.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { CustomResourceResponse } from '../../lib/local';

export interface TestUrl {
  readonly url: string;
  /** How many POSTs arrived. */
  posts(): number;
  /** The bodies of the POSTs answered 2xx, in order. */
  readonly accepted: CustomResourceResponse[];
  /** Answers the following POSTs with this status. */
  answerWith(status: number): void;
  close(): Promise<void>;
}

/** A response URL answering every POST with `status` (until told otherwise). */
export async function testUrl(status: number): Promise<TestUrl> {
  let current = status;
  let posts = 0;
  const accepted: CustomResourceResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      posts++;
      if (current >= 200 && current < 300) {
        accepted.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CustomResourceResponse);
      }
      res.statusCode = current;
      res.end(current === 404 ? '{"Code":"NotFound"}' : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ros-callbacks/test?Signature=test-signature`,
    posts: () => posts,
    accepted,
    answerWith(next: number) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A response URL of a request ROS no longer waits for: every POST is refused with 404. */
export function goneUrl(): Promise<TestUrl> {
  return testUrl(404);
}
