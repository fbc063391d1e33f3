// Boots the Apps Script sandbox worker: registers tsx so the worker can load sandbox.ts; nothing else happens here.
import { register } from 'tsx/esm/api';

register();
await import('./sandbox.ts');
