package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley/chatcore"
)

// devices returns the device service, or answers 503 when the server keeps
// no devices.
func (s *Server) devices(w http.ResponseWriter) chatcore.DeviceService {
	if s.cfg.Devices == nil {
		writeCodeError(w, CodeUnavailable, "push devices are not enabled on this server")
	}
	return s.cfg.Devices
}

type deviceReply struct {
	Device *chatcore.Device `json:"device"`
}

type devicesReply struct {
	Devices []*chatcore.Device `json:"devices"`
}

type notificationsReply struct {
	Notifications *chatcore.NotificationPref `json:"notifications"`
}

// handleRegisterDevice binds the device to the session of the caller's
// access token.
func (s *Server) handleRegisterDevice(w http.ResponseWriter, r *http.Request) {
	ds := s.devices(w)
	if ds == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	var req chatcore.RegisterDeviceRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	sid, err := s.cfg.Auth.SessionID(r.Context(), bearerToken(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := ds.RegisterDevice(r.Context(), me.ID, sid, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deviceReply{Device: d})
}

func (s *Server) handleListDevices(w http.ResponseWriter, r *http.Request) {
	ds := s.devices(w)
	if ds == nil {
		return
	}
	list, err := ds.Devices(r.Context(), chatcore.UserFromContext(r.Context()).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, devicesReply{Devices: list})
}

func (s *Server) handleDeleteDevice(w http.ResponseWriter, r *http.Request) {
	ds := s.devices(w)
	if ds == nil {
		return
	}
	if err := ds.DeleteDevice(r.Context(), chatcore.UserFromContext(r.Context()).ID, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleGetNotifications(w http.ResponseWriter, r *http.Request) {
	ds := s.devices(w)
	if ds == nil {
		return
	}
	p, err := ds.Notifications(r.Context(), chatcore.UserFromContext(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, notificationsReply{Notifications: p})
}

func (s *Server) handleSetNotifications(w http.ResponseWriter, r *http.Request) {
	ds := s.devices(w)
	if ds == nil {
		return
	}
	var req chatcore.SetNotificationsRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := ds.SetNotifications(r.Context(), chatcore.UserFromContext(r.Context()).ID, r.PathValue("id"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, notificationsReply{Notifications: p})
}
