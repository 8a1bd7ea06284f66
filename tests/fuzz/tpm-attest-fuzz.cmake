# Fuzz harness for the TPM structure parsers of the offline certify verifier
# (lib/format/tpm-attest.c): TPMS_ATTEST and TPMT_PUBLIC. Corpus in corpus/tpm-attest/:
# structures marshalled by tpm2-tss from OpenSSL keys, and malformed variants.
hwsign_fuzz(tpm-attest SOURCES fuzz-tpm-attest.c LIBS hwsign_format)
