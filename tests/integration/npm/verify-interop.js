#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Verify the bundles mkbundle wrote with sigstore-js's own Verifier (@sigstore/verify 3.1.1,
// @sigstore/bundle 4.0.0), offline and key-pinned: an empty trusted root, a key finder that
// accepts only our hint convention (hex SHA-256 of the SPKI DER), all thresholds 0. Then check
// that every tampered variant is rejected with the expected error code.
//
// usage: node verify-interop.js DIR ARTIFACT      (DIR holds pub.pem, msg/dsse.sigstore.json)
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, VerificationError } = require('@sigstore/verify');

const [dir, artifactPath] = process.argv.slice(2);
const pub = crypto.createPublicKey(fs.readFileSync(path.join(dir, 'pub.pem')));
const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const artifact = fs.readFileSync(artifactPath);
const msg = JSON.parse(fs.readFileSync(path.join(dir, 'msg.sigstore.json'), 'utf8'));
const dsse = JSON.parse(fs.readFileSync(path.join(dir, 'dsse.sigstore.json'), 'utf8'));

const hintOf = (key) =>
  crypto.createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');

function verify(json, key, artifactBuf) {
  const trust = {
    certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [],
    publicKey: (hint) => {
      if (hint !== hintOf(pub)) {
        throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `unknown hint ${hint}` });
      }
      return { publicKey: key, validFor: () => true };
    },
  };
  const v = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  const bundle = bundleFromJSON(json);
  v.verify(toSignedEntity(bundle, artifactBuf));
  return bundle;
}

const clone = (o) => JSON.parse(JSON.stringify(o));
function flipSig(b64) {
  const der = Buffer.from(b64, 'base64');
  der[der.length - 1] ^= 0x01;
  return der.toString('base64');
}

let failures = 0;
function expect(name, fn, wantCode) {
  let got = 'OK';
  try {
    fn();
  } catch (e) {
    got = e.code || `${e.name}: ${e.message}`;
  }
  const ok = got === (wantCode || 'OK');
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${got}${ok ? '' : ` (want ${wantCode || 'OK'})`}`);
}

// messageSignature
expect('msg: valid', () => verify(msg, pub, artifact));
expect('msg: other artifact', () => verify(msg, pub, Buffer.concat([artifact, Buffer.from('x')])),
  'SIGNATURE_ERROR');
expect('msg: tampered signature', () => {
  const b = clone(msg);
  b.messageSignature.signature = flipSig(b.messageSignature.signature);
  verify(b, pub, artifact);
}, 'SIGNATURE_ERROR');
expect('msg: wrong key', () => verify(msg, other, artifact), 'SIGNATURE_ERROR');
expect('msg: unknown hint', () => {
  const b = clone(msg);
  b.verificationMaterial.publicKey.hint = hintOf(other);
  verify(b, pub, artifact);
}, 'PUBLIC_KEY_ERROR');

// dsseEnvelope
expect('dsse: valid, statement names the artifact', () => {
  const b = verify(dsse, pub);
  const env = b.content.dsseEnvelope;
  if (env.payloadType !== 'application/vnd.in-toto+json') throw new Error('payloadType');
  const st = JSON.parse(Buffer.from(env.payload).toString('utf8'));
  if (st._type !== 'https://in-toto.io/Statement/v1') throw new Error(`_type ${st._type}`);
  const want = crypto.createHash('sha256').update(artifact).digest('hex');
  if (!st.subject.some((s) => s.digest && s.digest.sha256 === want)) throw new Error('subject');
  if (env.signatures[0].keyid !== hintOf(pub)) throw new Error('keyid');
});
expect('dsse: tampered payload', () => {
  const b = clone(dsse);
  const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
  st.subject[0].name = 'evil';
  b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
  verify(b, pub);
}, 'SIGNATURE_ERROR');
expect('dsse: tampered payloadType', () => {
  const b = clone(dsse);
  b.dsseEnvelope.payloadType = 'application/vnd.in-toto.other+json';
  verify(b, pub);
}, 'SIGNATURE_ERROR');
expect('dsse: tampered signature', () => {
  const b = clone(dsse);
  b.dsseEnvelope.signatures[0].sig = flipSig(b.dsseEnvelope.signatures[0].sig);
  verify(b, pub);
}, 'SIGNATURE_ERROR');
expect('dsse: wrong key', () => verify(dsse, other), 'SIGNATURE_ERROR');

process.exit(failures ? 1 : 0);
