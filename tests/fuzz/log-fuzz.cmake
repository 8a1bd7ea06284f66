# Fuzz harnesses for the tamper-evident log building blocks in lib/format (corpora in
# corpus/<target>/): C2SP signed notes and vkeys, tlog checkpoints, Merkle proof verification
# against a brute-force oracle.
hwsign_fuzz(note SOURCES fuzz-note.c LIBS hwsign_format)
hwsign_fuzz(checkpoint SOURCES fuzz-checkpoint.c LIBS hwsign_format)
hwsign_fuzz(merkle-proof SOURCES fuzz-merkle-proof.c LIBS hwsign_format)
