// SPDX-License-Identifier: Apache-2.0
// Validates SBOMs with tools nobody here wrote, offline:
//   node validate.js cyclonedx FILE   CycloneDX's own JsonStrictValidator, spec 1.6
//                                     (@cyclonedx/cyclonedx-library; schemas ship inside)
//   node validate.js spdx FILE        ajv 8 + ajv-formats against the SPDX 2.3 JSON schema
//                                     (spdx-schema-2.3.json, vendored: see README.md), plus the
//                                     spec-only rules the schema does not check
//                                     (FORMATS.md §8.3): documentNamespace present, a
//                                     DESCRIBES relationship when there is a package, SPDXID
//                                     charset, unique SPDXIDs, every relationship names a
//                                     known element.
// Prints "VALID <format> <n> components" and exits 0, or "INVALID ..." with the errors and
// exits 1; exits 2 on a usage or setup error.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg, errors) {
    console.log('INVALID ' + msg);
    if (errors) console.log(JSON.stringify(errors.slice(0, 20), null, 1));
    process.exit(1);
}

async function cyclonedx(text) {
    const CDX = require('@cyclonedx/cyclonedx-library');
    const v = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
    const errors = await v.validate(text);
    if (errors !== null) fail('cyclonedx (JsonStrictValidator 1.6)', errors);
    const doc = JSON.parse(text);
    // The schema does not enforce unique bom-refs (FORMATS.md §8.1): check them here.
    const refs = new Set();
    const walk = (list) => {
        for (const c of list || []) {
            if (c['bom-ref'] !== undefined) {
                if (refs.has(c['bom-ref'])) fail('cyclonedx: duplicate bom-ref ' + c['bom-ref']);
                refs.add(c['bom-ref']);
            }
            walk(c.components);
        }
    };
    walk(doc.components);
    console.log(`VALID cyclonedx ${(doc.components || []).length} components`);
}

function spdx(text) {
    const Ajv = require('ajv');
    const addFormats = require('ajv-formats');
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'spdx-schema-2.3.json'), 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const doc = JSON.parse(text);
    if (!validate(doc)) fail('spdx (SPDX 2.3 JSON schema)', validate.errors);
    if (doc.spdxVersion !== 'SPDX-2.3') fail('spdx: spdxVersion ' + doc.spdxVersion);
    if (doc.dataLicense !== 'CC0-1.0') fail('spdx: dataLicense ' + doc.dataLicense);
    if (doc.SPDXID !== 'SPDXRef-DOCUMENT') fail('spdx: document SPDXID ' + doc.SPDXID);
    if (typeof doc.documentNamespace !== 'string' || !/^[a-z][a-z0-9+.-]*:[^#]+$/.test(doc.documentNamespace))
        fail('spdx: documentNamespace missing or not an absolute URI without #');
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(doc.creationInfo.created))
        fail('spdx: creationInfo.created ' + doc.creationInfo.created);
    const ids = new Set(['SPDXRef-DOCUMENT']);
    for (const el of [...(doc.packages || []), ...(doc.files || [])]) {
        if (!/^SPDXRef-[A-Za-z0-9.-]+$/.test(el.SPDXID)) fail('spdx: bad SPDXID ' + el.SPDXID);
        if (ids.has(el.SPDXID)) fail('spdx: duplicate SPDXID ' + el.SPDXID);
        ids.add(el.SPDXID);
    }
    for (const f of doc.files || [])
        if (!(f.checksums || []).some((c) => c.algorithm === 'SHA1'))
            fail('spdx: file without SHA1 checksum ' + f.fileName);
    const rels = doc.relationships || [];
    for (const r of rels)
        if (!ids.has(r.spdxElementId) || !ids.has(r.relatedSpdxElement))
            fail('spdx: relationship names an unknown element ' + JSON.stringify(r));
    if ((doc.packages || []).length + (doc.files || []).length > 0 &&
        !rels.some((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES'))
        fail('spdx: no DESCRIBES relationship');
    console.log(`VALID spdx ${(doc.packages || []).length} packages ${(doc.files || []).length} files`);
}

async function main() {
    const [kind, file] = process.argv.slice(2);
    if (!file || !['cyclonedx', 'spdx'].includes(kind)) {
        console.error('usage: node validate.js cyclonedx|spdx FILE');
        process.exit(2);
    }
    const text = fs.readFileSync(file, 'utf8');
    if (kind === 'cyclonedx') await cyclonedx(text);
    else spdx(text);
}

main().catch((e) => {
    console.error('ERROR ' + (e && e.stack ? e.stack : e));
    process.exit(2);
});
