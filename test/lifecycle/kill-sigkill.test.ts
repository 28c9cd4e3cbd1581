/** ros-deploy --local killed with SIGKILL mid-copy, mid-replacement and mid-destroy (see kill.ts). */
import { killTests } from './kill';

killTests('SIGKILL');
