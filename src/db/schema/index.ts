export * from './sync-state.js';
export * from './sync-watermark.js';
export * from './sync-log.js';
export * from './sync-audit.js';
export * from './sync-failure.js';
export * from './sync-scan.js';
export * from './sync-odoo-schema.js';
export * from './sync-family-layout.js';
