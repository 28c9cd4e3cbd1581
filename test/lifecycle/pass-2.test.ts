/** Pass 2 of the lifecycle matrix (see matrix.ts), against a LocalCloud serving the project as ros-local start does. */
import { lifecyclePass } from './matrix';

lifecyclePass(2, 'served');
