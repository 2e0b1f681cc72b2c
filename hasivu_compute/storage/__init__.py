"""Bytes on disk: encodings, segment writer/reader, zone maps and bloom filters, FileIO."""
