#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Verify one Sigstore bundle file with sigstore-js's own Verifier (@sigstore/verify 3.1.1,
// @sigstore/bundle 4.0.0), offline and key-pinned, the way verify-interop.js does: an empty
// trusted root, a key finder that accepts only the hint of PUB.pem in our convention (hex
// SHA-256 of the DER SPKI), and all thresholds (tlog, ctlog, timestamp) 0.
//
// usage: node verify-bundle.js PUB.pem BUNDLE.json [ARTIFACT]
//   ARTIFACT is required for messageSignature bundles and ignored for dsseEnvelope ones.
// Environment: TRUSTED_ROOT=FILE uses that Sigstore trusted root (JSON, e.g. from `hwsign log
// trusted-root`) through @sigstore/verify's toTrustMaterial instead of the empty one, and
// TLOG_THRESHOLD=N requires N verified transparency-log entries (default 0).
// Prints one line, "OK <kind>" or "REJECTED <error code or message>"; exits 0 verified,
// 1 rejected, 2 usage.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial, VerificationError } =
  require('@sigstore/verify');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const [pubPath, bundlePath, artifactPath] = process.argv.slice(2);
if (!pubPath || !bundlePath) {
  console.error('usage: verify-bundle.js PUB.pem BUNDLE.json [ARTIFACT]');
  process.exit(2);
}

try {
  const pub = crypto.createPublicKey(fs.readFileSync(pubPath));
  const pinned = crypto.createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
  const keyFinder = (hint) => {
    if (hint !== pinned) {
      throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `unknown hint ${hint}` });
    }
    return { publicKey: pub, validFor: () => true };
  };
  const trust = process.env.TRUSTED_ROOT
    ? toTrustMaterial(TrustedRoot.fromJSON(
      JSON.parse(fs.readFileSync(process.env.TRUSTED_ROOT, 'utf8'))), keyFinder)
    : {
      certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [],
      publicKey: keyFinder,
    };
  const verifier = new Verifier(trust, {
    tlogThreshold: Number(process.env.TLOG_THRESHOLD || 0), ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const kind = bundle.content.$case;
  const artifact = kind === 'messageSignature' && artifactPath
    ? fs.readFileSync(artifactPath) : undefined;
  verifier.verify(toSignedEntity(bundle, artifact));
  console.log(`OK ${kind}`);
  process.exit(0);
} catch (e) {
  console.log(`REJECTED ${e.code || `${e.name}: ${e.message}`}`);
  process.exit(1);
}
