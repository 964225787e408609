// `zcprobe agent`: a TLS-PSK server on exactly the address it is given, serving one sender at a
// time (a second one, once authenticated, is told "busy"). A failed handshake — no token, a
// wrong one, or bytes that are not TLS — is logged with the peer's address and nothing runs.
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { formatHostPort } from './address.ts';
import { AgentSession, type AgentSessionOptions } from './agent-session.ts';
import { encodeFrame, type AgentMessage } from './protocol.ts';
import { serverTlsOptions } from './psk.ts';

export interface AgentOptions extends Omit<AgentSessionOptions, 'host'> {
  host: string;
  port: number;
  psk: Buffer;
}

export class AgentServer {
  private active: AgentSession | null = null;
  private idleSince = Date.now();

  private constructor(
    private readonly server: Server,
    readonly opts: AgentOptions,
  ) {}

  static async start(opts: AgentOptions): Promise<AgentServer> {
    const server = createServer(serverTlsOptions(opts.psk));
    // Handshakes in progress are bounded too (each times out after 5 s): one sender, a few strays.
    server.maxConnections = 16;
    const agent = new AgentServer(server, opts);
    server.on('secureConnection', (s) => agent.onSession(s));
    server.on('tlsClientError', (err, s) => {
      const peer = s.remoteAddress ? formatHostPort(s.remoteAddress, s.remotePort ?? 0) : 'unknown peer';
      opts.log(`refused ${peer}: TLS handshake failed (no or wrong token, or not a zcprobe sender): ${err.message.split('\n')[0]}`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e: Error) => opts.log(`server error: ${e.message}`));
    return agent;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : this.opts.port;
  }

  private onSession(socket: TLSSocket): void {
    const peer = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    if (this.active) {
      this.opts.log(`busy: refused ${peer} (one sender at a time)`);
      const busy: AgentMessage = { type: 'busy', message: 'another sender is using this agent; try again when its run ends' };
      socket.end(encodeFrame(busy));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const session = new AgentSession(socket, this.opts);
    this.active = session;
    void session.done.then(() => {
      if (this.active !== session) return;
      this.active = null;
      this.idleSince = Date.now();
    });
  }

  /** How long no sender has had a session (0 while one has). */
  get idleMs(): number {
    return this.active ? 0 : Date.now() - this.idleSince;
  }

  /** Stops listening and ends the current session. */
  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    await this.active?.close();
    await closed;
  }
}
