/** Pass 1 of the lifecycle matrix (see matrix.ts), against the LocalCloud that ros-deploy --local embeds (variants from ROS_LOCAL_VARIANTS). */
import { lifecyclePass } from './matrix';

lifecyclePass(1, 'embedded');
