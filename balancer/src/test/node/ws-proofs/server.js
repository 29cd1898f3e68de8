// A WebSocket backend built on the ws package (not Fulcrum's code), for WsThroughBalancerTest.
// It listens on 127.0.0.1 and a free port, prints {"event":"listening","port":N} on stdout, then
// one JSON line per event a test may check (a close code and reason received, a pong received).
// What it does with a connection depends on the path:
//   /greet          sends "welcome" and "second" as soon as the socket opens, then echoes
//   /echo           echoes every message, text as text and binary as binary
//   /burst?n=N      sends "0" .. "N-1" as soon as the socket opens, then echoes
//   /big?size=N     sends one binary message of N bytes (byte i = i * 31 mod 256), then echoes
//   /close?code=C&reason=R   closes with that code and reason as soon as the socket opens
//   /ping?data=D    pings with payload D as soon as the socket opens and reports the pong
// Every connection reports the close code and reason it received from the client.
'use strict';
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 256 * 1024 * 1024 });

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function pattern(size) {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) {
    b[i] = (i * 31) & 0xff;
  }
  return b;
}

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://backend');
  const path = url.pathname;
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => emit({ event: 'close', path, code, reason: reason.toString() }));
  ws.on('pong', (data) => emit({ event: 'pong', path, data: data.toString() }));
  ws.on('error', (err) => emit({ event: 'error', path, message: String(err) }));
  if (path === '/greet') {
    ws.send('welcome');
    ws.send('second');
  } else if (path === '/burst') {
    const n = Number(url.searchParams.get('n'));
    for (let i = 0; i < n; i++) {
      ws.send(String(i));
    }
  } else if (path === '/big') {
    ws.send(pattern(Number(url.searchParams.get('size'))), { binary: true });
  } else if (path === '/close') {
    ws.close(Number(url.searchParams.get('code')), url.searchParams.get('reason'));
  } else if (path === '/ping') {
    ws.ping(url.searchParams.get('data'));
  }
});

wss.on('listening', () => emit({ event: 'listening', port: wss.address().port }));
// The test ends this process by closing its stdin (or by killing it).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
