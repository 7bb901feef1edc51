"""Methods other than MotionFlow, behind one interface."""
