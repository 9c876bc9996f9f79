"""webmap"""
