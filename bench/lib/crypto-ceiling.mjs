// Raw node:crypto ceilings, run in their own process (argv[2]: JSON { signingInputLength, body, ms }):
//  (b) ES256 sign with the async callback form (libuv threadpool), 64 in flight — both cores.
//  (c) the HMAC request check as the server does it per request, on the main thread:
//      sha256(body) → base64 compare, HMAC-SHA256(string-to-sign) with the 64-byte key, timingSafeEqual.
// Prints one JSON line { es256SignAsyncPerS, hmacCheckPerS }.
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, timingSafeEqual } from 'node:crypto';

const spec = JSON.parse(process.argv[2] ?? '{}');
const ms = spec.ms ?? 2000;
const warmMs = 400;

async function es256AsyncRate() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const inputs = Array.from({ length: 256 }, () =>
    Buffer.from(randomBytes(Math.ceil((spec.signingInputLength ?? 900) * 0.75)).toString('base64url')),
  );
  const run = (duration) =>
    new Promise((resolve) => {
      let done = 0;
      let i = 0;
      let inFlight = 0;
      const end = performance.now() + duration;
      const start = performance.now();
      const next = () => {
        if (performance.now() >= end) {
          if (inFlight === 0) resolve((done * 1000) / (performance.now() - start));
          return;
        }
        inFlight++;
        sign('sha256', inputs[i++ & 255], { key: privateKey, dsaEncoding: 'ieee-p1363' }, (error) => {
          if (error) throw error;
          inFlight--;
          done++;
          next();
        });
      };
      for (let k = 0; k < 64; k++) next();
    });
  await run(warmMs);
  return run(ms);
}

function hmacCheckRate() {
  const key = randomBytes(64);
  const body = Buffer.from(spec.body ?? '{"scopes":["chat","voip"]}');
  const claimedHash = createHash('sha256').update(body).digest('base64');
  const stringToSign = Buffer.from(
    `POST\n/identities/8%3Aacs%3A${randomBytes(16).toString('hex')}_${randomBytes(16).toString('hex')}/:issueAccessToken?api-version=2025-06-30\n${new Date().toUTCString()};127.0.0.1:40000;${claimedHash}`,
  );
  const given = createHmac('sha256', key).update(stringToSign).digest();
  const once = () => {
    if (createHash('sha256').update(body).digest('base64') !== claimedHash) throw new Error('hash');
    const expected = createHmac('sha256', key).update(stringToSign).digest();
    if (!timingSafeEqual(expected, given)) throw new Error('hmac');
  };
  const run = (duration) => {
    let n = 0;
    const start = performance.now();
    const end = start + duration;
    while (performance.now() < end) {
      for (let k = 0; k < 256; k++) once();
      n += 256;
    }
    return (n * 1000) / (performance.now() - start);
  };
  run(warmMs);
  return run(ms);
}

const es256SignAsyncPerS = Math.round(await es256AsyncRate());
const hmacCheckPerS = Math.round(hmacCheckRate());
process.stdout.write(`${JSON.stringify({ es256SignAsyncPerS, hmacCheckPerS, inFlight: 64, ms })}\n`);
