/**
 * A tiny DNS server on loopback UDP that answers SRV queries from a table (RFC 1035 wire
 * format, just enough for one question and SRV answers), so the SRV path of the DNS
 * resolver runs against node:dns's real c-ares client instead of a stub.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface SrvAnswer {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface SrvServer {
  /** `127.0.0.1:port`, for `dns.Resolver#setServers`. */
  readonly server: string;
  /** Answers by query name; a name absent from the map gets NXDOMAIN. */
  readonly records: Map<string, SrvAnswer[]>;
  queries: number;
  close(): Promise<void>;
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((label) => label !== '');
  return Buffer.concat([...parts.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])), Buffer.from([0])]);
}

/** The question's name and where the question section ends. */
function readQuestion(query: Buffer): { name: string; end: number } {
  const labels: string[] = [];
  let offset = 12;
  while (query[offset]! !== 0) {
    const length = query[offset]!;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += length + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: offset + 5 }; // zero byte + QTYPE + QCLASS
}

function answer(query: Buffer, records: Map<string, SrvAnswer[]>): Buffer {
  const { name, end } = readQuestion(query);
  const found = records.get(name);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // same id
  header.writeUInt16BE(found === undefined ? 0x8183 : 0x8180, 2); // response, RD+RA, NXDOMAIN or NOERROR
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(found?.length ?? 0, 6);
  const answers = (found ?? []).map((record) => {
    const target = encodeName(record.target);
    const fixed = Buffer.alloc(18);
    fixed.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    fixed.writeUInt16BE(33, 2); // SRV
    fixed.writeUInt16BE(1, 4); // IN
    fixed.writeUInt32BE(5, 6); // TTL
    fixed.writeUInt16BE(6 + target.length, 10);
    fixed.writeUInt16BE(record.priority, 12);
    fixed.writeUInt16BE(record.weight, 14);
    fixed.writeUInt16BE(record.port, 16);
    return Buffer.concat([fixed, target]);
  });
  return Buffer.concat([header, query.subarray(12, end), ...answers]);
}

export async function startSrvServer(): Promise<SrvServer> {
  const socket: Socket = createSocket('udp4');
  const records = new Map<string, SrvAnswer[]>();
  const srv: SrvServer = {
    server: '',
    records,
    queries: 0,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (query, peer) => {
    srv.queries++;
    socket.send(answer(query, records), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return Object.assign(srv, { server: `127.0.0.1:${socket.address().port}` });
}
