/** ros-deploy --local killed with SIGINT mid-copy, mid-replacement and mid-destroy (see kill.ts). */
import { killTests } from './kill';

killTests('SIGINT');
