"""ui/panels"""
