/**
 * A SASL integrity or confidentiality layer negotiated by a mechanism. After
 * authentication every byte on the connection travels inside it.
 */
export interface SecurityLayer {
  /** Largest plaintext `wrap` takes at once: split longer data. */
  readonly maxPlain: number;
  /**
   * Encodes one buffer of plaintext into what goes on the wire: a 4-byte
   * big-endian length, then that many bytes (the form Cyrus SASL's
   * sasl_encode produces and libvirt writes as is).
   */
  wrap(plain: Uint8Array): Uint8Array;
  /** Decodes one complete wire buffer (length word included) into plaintext. */
  unwrap(frame: Uint8Array): Uint8Array;
}

/** One client-side SASL mechanism for one authentication exchange. */
export interface SaslMechanism {
  /** The IANA name sent in AUTH_SASL_START, e.g. `SCRAM-SHA-256`. */
  readonly name: string;
  /** The initial response, or null when the mechanism has none (sent as nil). */
  start(): Uint8Array | null;
  /**
   * Answers a server challenge (null when the server sent nil). Returns the
   * response, or null for nil. Throws a SaslError when the server's message
   * is malformed or fails verification.
   */
  step(challenge: Uint8Array | null): Uint8Array | null;
  /** True once the client side is done (server verified where the mechanism can). */
  readonly complete: boolean;
  /** Security strength factor of the negotiated layer: 0 for none. */
  readonly ssf: number;
  /** The negotiated security layer, or null when `ssf` is 0. */
  readonly layer: SecurityLayer | null;
}

/** What a mechanism needs from the user. */
export interface SaslCredentials {
  readonly authname: string;
  readonly password: string;
  /** Identity to act as (authzid); absent means the authname itself. */
  readonly authzid?: string;
}
