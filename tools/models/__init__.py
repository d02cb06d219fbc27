"""Model definitions for npukit's test models (YOLOv5s, YOLOv8n, a small ViT) and the export helpers."""
