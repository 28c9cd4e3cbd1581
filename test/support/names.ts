import { randomUUID } from 'crypto';

/** A name no other test uses: `prefix` and 8 random hex digits (`copy-3f9a0c1e`). */
export const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
