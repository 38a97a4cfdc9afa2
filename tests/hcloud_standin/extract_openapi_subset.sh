#!/bin/sh
# Extracts the part of the official Hetzner Cloud OpenAPI spec that the
# stand-in implements into openapi-subset.json (committed; the full 3.4 MB
# spec is not in the repository and not available in CI).
#
# Usage: tests/hcloud_standin/extract_openapi_subset.sh [SPEC] [OUT]
#   SPEC defaults to /work/shared/hetzner/openapi.json (the saved copy of
#   https://docs.hetzner.cloud/cloud.spec.json, OpenAPI 3.0.3),
#   OUT to openapi-subset.json next to this script.
#
# What it keeps: the listed paths with their parameters, request bodies and
# response schemas. What it drops: prose (string-valued `description`),
# `example`/`examples`, `x-codeSamples`, `summary`, `tags`. The schema keywords
# the validator needs are untouched.
#
# Drift patch (docs/research/hetzner-api.md §0.1): the live API removed the
# deprecated `datacenter` property from Server objects on 2026-07-01 (hcloud-go
# v2.45.0), but the saved spec still lists it as required. The newer 3.1 spec
# has no `datacenter`, so it is removed here from every schema that has both
# `server_type` and `datacenter` properties (Server objects), and from their
# `required` lists. Nothing else is changed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
spec=${1:-/work/shared/hetzner/openapi.json}
out=${2:-$here/openapi-subset.json}

jq --sort-keys '
  def keep_paths: [
    "/actions", "/actions/{id}",
    "/servers", "/servers/{id}", "/servers/actions", "/servers/{id}/actions",
    "/servers/{id}/actions/{action_id}",
    "/servers/{id}/actions/create_image", "/servers/{id}/actions/poweroff",
    "/servers/{id}/actions/shutdown",
    "/images", "/images/{id}",
    "/firewalls", "/firewalls/{id}",
    "/firewalls/{id}/actions/apply_to_resources",
    "/firewalls/{id}/actions/remove_from_resources",
    "/ssh_keys", "/volumes"
  ];
  def strip_docs: walk(
    if type == "object" then
      with_entries(select(
        (.key == "description" and (.value | type) == "string" | not)
        and (.key | IN("example", "examples", "x-codeSamples", "summary", "tags") | not)))
    else . end);
  def drop_datacenter: walk(
    if type == "object" and (.properties? | type) == "object"
       and (.properties | has("datacenter")) and (.properties | has("server_type")) then
      .properties |= del(.datacenter)
      | if has("required") then .required |= map(select(. != "datacenter")) else . end
    else . end);
  {
    openapi,
    info: {title: .info.title, version: .info.version,
           "x-custody-note": "subset extracted by tests/hcloud_standin/extract_openapi_subset.sh; datacenter removed from Server (API drift 2026-07-01)"},
    paths: (.paths | with_entries(select(.key | IN(keep_paths[])))
            | with_entries(.value |= with_entries(select(.key | IN("get", "post", "put", "delete", "parameters")))))
  }
  | strip_docs | drop_datacenter
' "$spec" > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(wc -c < "$out") bytes, $(jq '.paths | length' "$out") paths)"
