/** `outport/sdk`: everything a destination plugin needs. Imports nothing from the server. */
export * from './models';
export * from './destination';
export * from './replacements';
export * from './classify';
export * from './schema-evolution';
export * from './buffer-pool';
