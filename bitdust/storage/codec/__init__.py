"""Files to encrypted, erasure-coded fragments and back: streaming, bounded memory, every corruption caught."""
