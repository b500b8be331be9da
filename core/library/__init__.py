"""Image library: safe import (limits, hashing, dedup, thumbnails). Entry point: `importer`."""
