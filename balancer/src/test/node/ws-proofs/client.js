// A WebSocket client built on the ws package (not Fulcrum's code), for WsThroughBalancerTest.
// Usage: node client.js <scenario> <base-url> [ca-file]
// Runs one scenario against base-url (ws://127.0.0.1:PORT or wss://127.0.0.1:PORT, with the CA
// that signed the balancer's certificate) and prints one JSON line with what it saw; the Java test
// makes the assertions. Exits non-zero with {"error": "..."} when a socket fails.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const WebSocket = require('ws');

const [scenario, base, caFile] = process.argv.slice(2);
const ca = caFile ? fs.readFileSync(caFile) : undefined;
const WAIT_MS = 20000;
const CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999];

// A socket whose messages queue up until taken, so that none is missed between awaits.
function open(path) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base + path, { ca, maxPayload: 256 * 1024 * 1024, handshakeTimeout: WAIT_MS });
    ws.queue = [];
    ws.waiters = [];
    ws.pongs = [];
    ws.on('message', (data, isBinary) => {
      ws.queue.push(isBinary ? data : data.toString());
      ws.waiters.splice(0).forEach((w) => w());
    });
    ws.on('pong', (data) => {
      ws.pongs.push(data.toString());
      ws.waiters.splice(0).forEach((w) => w());
    });
    ws.closed = new Promise((done) => ws.on('close', (code, reason) => done({ code, reason: reason.toString() })));
    ws.on('open', () => resolve(ws));
    ws.on('error', (err) => reject(new Error(path + ': ' + err.message)));
  });
}

// Resolves once cond() holds, re-checked at each message or pong.
function until(ws, cond, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for ' + what)), WAIT_MS);
    const check = () => {
      if (cond()) {
        clearTimeout(timer);
        resolve();
      } else {
        ws.waiters.push(check);
      }
    };
    check();
  });
}

async function take(ws, n) {
  await until(ws, () => ws.queue.length >= n, n + ' messages');
  return ws.queue.splice(0, n);
}

async function closeNormally(ws) {
  ws.close(1000, 'done');
  return ws.closed;
}

function pattern(size) {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) {
    b[i] = (i * 31) & 0xff;
  }
  return b;
}

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

// The first index where got differs from 0..n-1 as strings, or -1.
function firstOutOfOrder(got, prefix) {
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== prefix + i) {
      return i;
    }
  }
  return -1;
}

const scenarios = {
  // A server that greets at once, on new upgrades one after another.
  async greet() {
    const upgrades = [];
    for (let i = 0; i < 20; i++) {
      const ws = await open('/greet');
      const got = await take(ws, 2);
      ws.send('hi ' + i);
      got.push(...(await take(ws, 1)));
      await closeNormally(ws);
      upgrades.push(got);
    }
    return { upgrades };
  },

  // Many messages each way, sent without waiting: every one arrives, in order.
  async order() {
    const n = 5000;
    const echo = await open('/echo');
    for (let i = 0; i < n; i++) {
      echo.send('m' + i);
    }
    const echoed = await take(echo, n);
    await closeNormally(echo);
    const burst = await open('/burst?n=' + n);
    const bursted = await take(burst, n);
    await closeNormally(burst);
    return {
      sent: n, echoed: echoed.length, echoOutOfOrder: firstOutOfOrder(echoed, 'm'),
      burst: bursted.length, burstOutOfOrder: firstOutOfOrder(bursted, ''),
    };
  },

  // Messages far larger than any buffer on the way, both directions.
  async large() {
    const size = 16 * 1024 * 1024;
    const echo = await open('/echo');
    const sent = pattern(size);
    echo.send(sent, { binary: true });
    const [back] = await take(echo, 1);
    const text = 'x'.repeat(4 * 1024 * 1024);
    echo.send(text);
    const [textBack] = await take(echo, 1);
    await closeNormally(echo);
    const big = await open('/big?size=' + size);
    const [received] = await take(big, 1);
    await closeNormally(big);
    return {
      sentSha256: sha256(sent), echoedLength: back.length, echoedSha256: sha256(back),
      textEchoed: textBack === text, receivedLength: received.length, receivedSha256: sha256(received),
    };
  },

  // Pings, pongs, a message in fragments with a ping between them, and close codes both ways.
  async control() {
    const ws = await open('/echo');
    ws.ping('are you there');
    await until(ws, () => ws.pongs.length >= 1, 'the pong');
    ws.send('part1-', { fin: false });
    ws.ping('between fragments');
    ws.send('part2-', { fin: false });
    ws.send('end', { fin: true });
    const [fragmented] = await take(ws, 1);
    await until(ws, () => ws.pongs.length >= 2, 'the second pong');
    await closeNormally(ws);
    const pinged = await open('/ping?data=from-server');
    // The pong is the ws client's own answer; the server reports it. An echo shows the order held.
    pinged.send('after ping');
    await take(pinged, 1);
    await closeNormally(pinged);

    const fromServer = [];
    for (const code of CLOSE_CODES) {
      const reason = 'server ' + code + ' \u2713';
      const s = await open('/close?code=' + code + '&reason=' + encodeURIComponent(reason));
      fromServer.push(await s.closed);
    }
    const fromClient = [];
    for (const code of CLOSE_CODES) {
      const c = await open('/echo');
      const reason = 'client ' + code + ' \u2713';
      c.close(code, reason);
      await c.closed;
      fromClient.push({ code, reason });
    }
    return { pongs: ws.pongs, fragmented, fromServer, fromClient };
  },

  // Many tunnels open at once, each carrying its own messages.
  async many() {
    const tunnels = 200;
    const each = 20;
    const one = async (t) => {
      const ws = await open('/echo');
      for (let i = 0; i < each; i++) {
        ws.send(t + ':' + i);
      }
      const got = await take(ws, each);
      await closeNormally(ws);
      return got.every((m, i) => m === t + ':' + i);
    };
    const results = await Promise.allSettled(Array.from({ length: tunnels }, (_, t) => one(t)));
    return {
      tunnels,
      intact: results.filter((r) => r.status === 'fulfilled' && r.value).length,
      failures: results.filter((r) => r.status === 'rejected').map((r) => String(r.reason)).slice(0, 5),
    };
  },
};

const run = scenarios[scenario];
if (!run) {
  process.stdout.write(JSON.stringify({ error: 'no scenario ' + scenario }) + '\n');
  process.exit(2);
}
run().then(
  (result) => {
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  },
  (err) => {
    process.stdout.write(JSON.stringify({ error: String(err.message || err) }) + '\n');
    process.exit(1);
  },
);
