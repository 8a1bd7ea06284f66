# Unit tests of lib/sbom: parsers (purl, licences, dpkg, Python, npm), collectors on real
# directories, and the CycloneDX / SPDX writers (goldens) with the SBOM reader.
hwsign_unit_test(test-sbom-parse SOURCES test-sbom-parse.c LIBS hwsign_sbom)
hwsign_unit_test(test-sbom-collect SOURCES test-sbom-collect.c LIBS hwsign_sbom)
hwsign_unit_test(test-sbom-write SOURCES test-sbom-write.c LIBS hwsign_sbom)
