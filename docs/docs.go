// Package docs embeds the API reference so every chat node serves it at
// /openapi.json. docs/protocol.md is the prose guide to the same API.
package docs

import _ "embed"

// OpenAPI is docs/openapi.json, the OpenAPI 3.1 description of the REST API.
//
//go:embed openapi.json
var OpenAPI []byte
