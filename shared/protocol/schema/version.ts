import { Type } from '@sinclair/typebox';
import { PROTOCOL_VERSION } from '../trial.js';

/**
 * The protocol version every message but a heartbeat carries: exactly PROTOCOL_VERSION. A validator
 * checks it before any other field (compile.ts), so a message of another version is refused as such.
 */
export const Version = Type.Literal(PROTOCOL_VERSION, { expected: `protocol version ${PROTOCOL_VERSION}` });
