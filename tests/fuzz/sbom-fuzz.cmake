# Fuzz harness for the SBOM inventory parsers (lib/sbom: dpkg status, Python METADATA, npm
# package.json, DEP-5 copyright, the CycloneDX/SPDX reader); corpus in corpus/sbom/.
if(TARGET hwsign_sbom)
  hwsign_fuzz(sbom SOURCES fuzz-sbom.c LIBS hwsign_sbom)
endif()
