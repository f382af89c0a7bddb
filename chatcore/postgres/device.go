package postgres

import "github.com/parley-chat/parley/chatcore"

// Devices and notification preferences live in internal/sqlstore; the
// migration is migrations/0003_devices.sql.
var _ chatcore.DeviceStore = (*DB)(nil)
