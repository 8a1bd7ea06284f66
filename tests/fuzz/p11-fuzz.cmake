# pkcs11/ fuzz targets: the RFC 7512 URI parser (corpus: FORMATS.md §10.3 vectors + finds).
hwsign_fuzz(p11-uri SOURCES fuzz-p11-uri.c LIBS hwsign_p11)
