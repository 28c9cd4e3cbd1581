/**
 * The construct library: what an app imports to declare image copies. The deploy library is the
 * `ros-cdk-image-copy/deploy` subpath and LocalCloud `ros-cdk-image-copy/local`, so that an app's synth loads
 * neither the ROS SDK nor the emulator.
 */
export * from './image-copy';
export * from './image-replication';
export { ImageCopyProvider } from './provider';
export * from './image-distribution';
