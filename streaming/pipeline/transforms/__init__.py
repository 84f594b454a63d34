"""Pure DataFrame -> DataFrame transforms of each layer; no reading or writing here."""
