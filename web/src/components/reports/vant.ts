/** Vant components only the dashboard designer uses (registered locally by its components). */
import 'vant/es/stepper/style/index'

export { Stepper as VanStepper } from 'vant'
