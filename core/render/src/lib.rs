//! Kinema's wgpu video compositor (being written).
