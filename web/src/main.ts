import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { i18n } from '@/i18n'
import { vantPlugin } from '@/plugins/vant'
import { createAppRouter } from '@/router'
import { setupApi } from '@/setupApi'
import './styles/app.css'

const app = createApp(App)
const pinia = createPinia()
const router = createAppRouter()

app.use(pinia).use(i18n).use(vantPlugin).use(router)
setupApi(router, pinia)
app.mount('#app')
