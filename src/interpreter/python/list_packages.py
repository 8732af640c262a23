"""Print the installed distributions as JSON [{"name","version"}], sorted by name (list_packages)."""
import json

try:
    from importlib import metadata
except ImportError:  # Python < 3.8
    import importlib_metadata as metadata

def installed():
    seen = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in seen:
            seen[name.lower()] = {"name": name, "version": dist.version}
    return sorted(seen.values(), key=lambda p: p["name"].lower())

if __name__ == "__main__":
    print(json.dumps(installed()))
