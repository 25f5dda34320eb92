// A real OpenID provider (panva's oidc-provider) for tests/idp: a client_credentials client that
// gets JWT access tokens (resource indicators) signed with RS256, ES256 or EdDSA.
//
// Listens on 127.0.0.1 on an ephemeral port and prints one JSON line {"issuer", "pid"}; exits
// when its stdin closes (the test binary ended). POST /test/rotate adds a new key of each
// algorithm (new kids, used for signing from then on) and keeps the old ones for verification.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const AUDIENCE = 'https://api.example.test';
const ALGS = { rs256: 'RS256', es256: 'ES256', eddsa: 'EdDSA' };

function newKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rsa-${randomUUID()}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `ec-${randomUUID()}`, alg: 'ES256', use: 'sig' },
    { ...ed, kid: `ed-${randomUUID()}`, alg: 'EdDSA', use: 'sig' },
  ];
}

function build(issuer, keys) {
  const provider = new Provider(issuer, {
    jwks: { keys },
    clients: [{
      client_id: 'resource-test',
      client_secret: 'resource-test-secret-resource-test-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'read write admin',
    }],
    scopes: ['read', 'write', 'admin'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => `${AUDIENCE}/rs256`,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          const alg = ALGS[resource.split('/').pop()];
          if (!alg) throw new Error(`unknown resource ${resource}`);
          return {
            scope: 'read write admin',
            audience: AUDIENCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 300,
            jwt: { sign: { alg } },
          };
        },
      },
    },
  });
  return provider;
}

let keys = newKeys();
let current;
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/test/rotate') {
    keys = [...newKeys(), ...keys];
    current = build(current.issuer, keys);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kids: keys.map((k) => k.kid) }));
    return;
  }
  current.callback()(req, res);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  current = build(`http://127.0.0.1:${port}`, keys);
  process.stdout.write(`${JSON.stringify({ issuer: current.issuer, pid: process.pid })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
