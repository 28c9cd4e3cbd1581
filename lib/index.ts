export * from './image-copy';
export * from './image-replication';
export { ImageCopyProvider } from './provider';
export * from './deploy';
